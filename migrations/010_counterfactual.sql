-- What a counterfactual replay needs to put people's decisions back at the run clock they
-- happened at (issue 12): the wall time of every equity point (a clock step), and the manual
-- trading-state changes (halt_trading, resume_trading) with the run they happened in.
alter table equity_snapshots add column recorded_at timestamptz not null default clock_timestamp();

create table model_state_events (
  id serial primary key,
  model_id integer not null references models(id) on delete cascade,
  run_id integer references runs(id) on delete cascade,
  state text not null check (state in ('active', 'reducing', 'halted')),
  reason text,
  key_prefix text,
  created_at timestamptz not null default clock_timestamp()
);
create index model_state_events_run on model_state_events (run_id, id);
