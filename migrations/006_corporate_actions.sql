-- Corporate actions: cash dividends beside the splits of 004 (from Polygon, or imported from
-- CSV for imported symbols), and the ledger events of the actions applied to each run.

create table price_dividends (
  symbol text not null,
  ex_date date not null,
  -- dollars per share
  cash_amount numeric(18,6) not null check (cash_amount >= 0),
  pay_date date,
  primary key (symbol, ex_date)
);

create table price_dividend_checks (
  symbol text primary key,
  checked_at timestamptz not null
);

-- One row per action applied to a run's account (a split or a dividend on a position).
create table corporate_action_events (
  id serial primary key,
  run_id integer not null references runs(id) on delete cascade,
  symbol text not null,
  kind text not null check (kind in ('split', 'dividend')),
  action_date date not null,
  -- split: split_to / split_from; dividend: dollars per share
  ratio numeric(18,6),
  cash_amount numeric(18,6),
  quantity_before integer not null,
  quantity_after integer not null,
  cash_in_lieu numeric(18,2) not null default 0,
  cash_change numeric(18,2) not null,
  realized_pnl numeric(18,2) not null,
  clock timestamptz not null,
  unique (run_id, symbol, kind, action_date)
);
create index corporate_action_events_run on corporate_action_events (run_id, id);

-- The reasoning log records what the system did to the account, too.
alter table reasoning_log drop constraint reasoning_log_reasoning_type_check;
alter table reasoning_log add constraint reasoning_log_reasoning_type_check
  check (reasoning_type in ('plan', 'analysis', 'decision', 'reflection', 'event'));
