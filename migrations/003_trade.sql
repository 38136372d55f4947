-- Orders (refused ones included), fills and positions of each run's account.

create table orders (
  id serial primary key,
  run_id integer not null references runs(id) on delete cascade,
  model_id integer not null references models(id) on delete cascade,
  client_order_id text,
  side text not null check (side in ('buy', 'sell', 'short', 'cover')),
  symbol text not null,
  quantity integer not null check (quantity > 0),
  order_type text not null default 'market' check (order_type in ('market', 'limit')),
  limit_price numeric(18,4),
  stop_loss numeric(18,4),
  take_profit numeric(18,4),
  status text not null check (status in ('filled', 'rejected', 'pending_approval', 'open', 'validated', 'cancelled', 'expired')),
  rejections jsonb not null default '[]',
  reasoning text,
  -- who or what placed it: 'agent', or the exit that fired ('stop_loss', a rule's name…)
  source text not null default 'agent',
  parent_order_id integer references orders(id),
  clock timestamptz not null,
  key_prefix text,
  created_at timestamptz not null default clock_timestamp(),
  expires_at timestamptz,
  decided_at timestamptz,
  decided_by text,
  decision_note text,
  unique (model_id, client_order_id)
);
create index orders_run on orders (run_id, id);
create index orders_model_status on orders (model_id, status);

create table fills (
  id serial primary key,
  order_id integer not null unique references orders(id) on delete cascade,
  run_id integer not null references runs(id) on delete cascade,
  symbol text not null,
  side text not null check (side in ('buy', 'sell', 'short', 'cover')),
  quantity integer not null check (quantity > 0),
  price numeric(18,4) not null,
  commission numeric(18,2) not null default 0,
  slippage numeric(18,4) not null default 0,
  cash_change numeric(18,2) not null,
  realized_pnl numeric(18,2) not null default 0,
  clock timestamptz not null,
  created_at timestamptz not null default clock_timestamp()
);
create index fills_run on fills (run_id, id);

create table positions (
  run_id integer not null references runs(id) on delete cascade,
  symbol text not null,
  -- negative for a short
  quantity integer not null,
  -- exact cost basis, commission excluded: paid for a long, received for a short (≥ 0)
  cost_basis numeric(18,2) not null,
  -- derived from cost_basis / |quantity| (4 dp), for display and the rules engine
  avg_cost numeric(18,4) not null,
  high_water numeric(18,4),
  low_water numeric(18,4),
  -- exit levels attached by the order that opened or last added to the position
  stop_price numeric(18,4),
  target_price numeric(18,4),
  opened_at timestamptz not null,
  primary key (run_id, symbol)
);
