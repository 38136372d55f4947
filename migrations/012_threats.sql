-- Threat history: the events detect_threats found, also recorded when a run ends and when a
-- circuit breaker halts a model. One row per (run, event key): detecting again stores nothing new.
create table threat_events (
  id serial primary key,
  model_id integer not null references models(id) on delete cascade,
  run_id integer not null references runs(id) on delete cascade,
  event_key text not null,
  threat_type text not null check (threat_type in ('overtrading', 'consecutive_losses', 'revenge_trading', 'concentration', 'drawdown', 'rule_violation_attempts', 'circuit_breaker')),
  severity text not null check (severity in ('low', 'medium', 'high', 'critical')),
  -- the run-clock instant of the event
  clock timestamptz not null,
  message text not null,
  evidence jsonb not null,
  recommendation jsonb not null,
  -- what recorded it: 'detect_threats', 'run_end' or 'circuit_breaker'
  detected_by text not null,
  detected_at timestamptz not null default clock_timestamp(),
  unique (run_id, event_key)
);
create index threat_events_model on threat_events (model_id, id);
