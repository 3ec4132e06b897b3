"""The simulator of the six NEL emergency departments, their wards and ambulances
(`uecflow simulate`), and the seeded sample day it grew from (`uecflow sample`)."""
