-- Stored text is data, not instructions (issue 19 item 10): reasoning entries and
-- conversation turns remember which API key wrote them (its public prefix), so a reader is
-- told whose untrusted text it is. Rows written before this carry null ("unknown key").
alter table reasoning_log add column key_prefix text;
alter table conversation_turns add column key_prefix text;
