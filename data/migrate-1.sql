-- Alleycat history database: schema version 1 to 2.
--
-- A checkpoint can fall inside a record aggregated by the Kinesis Producer
-- Library: sub_sequence is how many of its user records are applied (0:
-- the whole record at sequence_number is). A consumer that restarts from
-- such a checkpoint reads from that record again and passes over the user
-- records it had applied, as the Kinesis Client Library does with its
-- (sequence number, sub-sequence number) checkpoints. Rows written before
-- this version all cover whole records.
ALTER TABLE checkpoints ADD COLUMN sub_sequence INTEGER NOT NULL DEFAULT 0;

PRAGMA user_version = 2;
