"""Adapters for what trusts' EPRs already emit: HL7 v2 ADT over MLLP (`uecflow hl7`) and FHIR
Encounters (the gateway's `POST /fhir/Encounter`), mapped to contract events and pseudonymised
before anything leaves them."""
