-- Identity, models, runs, the reasoning log and the equity curve.

create table users (
  id serial primary key,
  name text not null unique,
  created_at timestamptz not null default now()
);

create table api_keys (
  id serial primary key,
  user_id integer not null references users(id) on delete cascade,
  prefix text not null unique,
  key_hash text not null unique,
  scopes text[] not null,
  created_at timestamptz not null default now(),
  revoked_at timestamptz,
  last_used_at timestamptz
);

create table models (
  id serial primary key,
  user_id integer not null references users(id) on delete cascade,
  name text not null,
  initial_cash numeric(18,2) not null default 10000,
  allowed_symbols text[],
  allow_short boolean not null default false,
  require_approval boolean not null default false,
  execution_mode text not null default 'simulation' check (execution_mode in ('simulation', 'validation')),
  commission_per_share numeric(12,4) not null default 0,
  slippage_bps numeric(10,2) not null default 0,
  max_drawdown_halt_pct numeric(6,4) not null default 0.25,
  instructions text not null default '',
  max_orders_per_minute integer not null default 60,
  state text not null default 'active' check (state in ('active', 'reducing', 'halted')),
  state_reason text,
  -- a halt set by an `approve` key can only be lifted by an `approve` key
  state_locked boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (user_id, name)
);

create table runs (
  id serial primary key,
  model_id integer not null references models(id) on delete cascade,
  run_number integer not null,
  kind text not null check (kind in ('replay', 'live')),
  status text not null check (status in ('running', 'completed', 'stopped')),
  timespan text check (timespan in ('day', 'minute')),
  session text not null default 'regular' check (session in ('regular', 'extended')),
  range_start timestamptz,
  range_end timestamptz,
  -- the replay clock; for a live run (whose clock is the wall clock) the last tick processed
  clock timestamptz,
  symbols text[] not null default '{}',
  label text,
  strategy_snapshot jsonb not null,
  -- the run is the account: this row is locked by every order
  initial_cash numeric(18,2) not null,
  cash numeric(18,2) not null,
  realized_pnl numeric(18,2) not null default 0,
  peak_value numeric(18,2) not null,
  final_stats jsonb,
  started_at timestamptz not null default now(),
  ended_at timestamptz,
  unique (model_id, run_number)
);
create unique index runs_one_running_per_model on runs (model_id) where status = 'running';

create table reasoning_log (
  id serial primary key,
  run_id integer not null references runs(id) on delete cascade,
  reasoning_type text not null check (reasoning_type in ('plan', 'analysis', 'decision', 'reflection')),
  content text not null,
  context jsonb,
  clock timestamptz not null,
  created_at timestamptz not null default clock_timestamp()
);
create index reasoning_log_run on reasoning_log (run_id, id);

create table equity_snapshots (
  run_id integer not null references runs(id) on delete cascade,
  clock timestamptz not null,
  cash numeric(18,2) not null,
  positions_value numeric(18,2) not null,
  total_value numeric(18,2) not null,
  primary key (run_id, clock)
);
