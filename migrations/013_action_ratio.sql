-- A split on the ledger keeps its exact ratio parts (ratio alone rounds 1-for-3 to 0.333333),
-- so the analyst's round trips follow each lot through it as the ledger followed the position.
alter table corporate_action_events
  add column split_from numeric(18,6),
  add column split_to numeric(18,6);

update corporate_action_events e
  set split_from = s.split_from, split_to = s.split_to
  from price_splits s
  where e.kind = 'split' and s.symbol = e.symbol and s.execution_date = e.action_date;
