"""The live worker: a Faust app (`app`) that feeds each Kafka message to the core
(`pipeline`) and logs every state change to a compacted changelog (`changelog`), so that a
restarted worker resumes exactly."""
