-- Stored text is data, not instructions (issue 19 item 10): a rule remembers which API key
-- (its public prefix) last wrote its name or description, so a reader of get_rule/list_rules
-- is told whose untrusted text it is. Existing rules take it from their history: the key of
-- the latest create, or of the latest update that changed the name or the description.
alter table rules add column text_key_prefix text;

update rules r set text_key_prefix = h.key_prefix
from (
  select distinct on (rule_id) rule_id, key_prefix
  from rule_history
  where action = 'create'
     or (before->>'rule_name') is distinct from (after->>'rule_name')
     or (before->>'rule_description') is distinct from (after->>'rule_description')
  order by rule_id, id desc
) h
where h.rule_id = r.id;
