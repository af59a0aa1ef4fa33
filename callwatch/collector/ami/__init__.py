"""The live AMI collector: wire protocol, client, journal, call tracker and the service loop."""
