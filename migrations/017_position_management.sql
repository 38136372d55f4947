-- Position management II (issue 18): exits with two targets and a per-position trailing
-- stop, set_exits, stop and stop-limit entries, modify_order's change history, approval
-- expiry per model.

-- The exits attached to a held position (stop_price and target_price exist: the stop and the
-- first target). The first target closes first_target_fraction of the position (null: all of
-- it when there is no second target); the second target the rest. breakeven moves the stop to
-- the average entry price once the first target fills. trailing_stop_pct trails high_water
-- (a long) or low_water (a short) by that fraction.
alter table positions
  add column target_price_2 numeric(18,4),
  add column first_target_fraction numeric(8,6) check (first_target_fraction > 0 and first_target_fraction <= 1),
  add column breakeven_after_first_target boolean not null default false,
  add column trailing_stop_pct numeric(8,6) check (trailing_stop_pct > 0 and trailing_stop_pct < 1),
  add column first_target_filled boolean not null default false;

-- The same exits on the order that opens or adds to the position; stop entries.
alter table orders drop constraint orders_order_type_check;
alter table orders
  add constraint orders_order_type_check check (order_type in ('market', 'limit', 'stop', 'stop_limit')),
  add column stop_price numeric(18,4),
  add column take_profit_2 numeric(18,4),
  add column first_target_fraction numeric(8,6) check (first_target_fraction > 0 and first_target_fraction <= 1),
  add column breakeven_after_first_target boolean not null default false,
  add column trailing_stop_pct numeric(8,6) check (trailing_stop_pct > 0 and trailing_stop_pct < 1),
  -- a stop-limit whose stop traded: it now rests as a limit
  add column triggered_at timestamptz,
  -- modify_order's history: [{at (wall, UTC), clock (run), key_prefix, before, after, reasoning}]
  add column changes jsonb not null default '[]';

-- set_exits on a held position, kept so a counterfactual replay moves the same exits at the
-- same run clock (the position's row keeps only the current levels).
create table position_exit_changes (
  id serial primary key,
  run_id integer not null references runs(id) on delete cascade,
  symbol text not null,
  clock timestamptz not null,
  key_prefix text,
  -- the fields set ({"stop_loss": 95} or {"take_profit": null} to remove one)
  changes jsonb not null,
  created_at timestamptz not null default clock_timestamp()
);
create index position_exit_changes_run on position_exit_changes (run_id, id);

-- Pending approvals expire after this many minutes (CONTRACT §4, default 15).
alter table models add column approval_expiry_minutes integer not null default 15
  check (approval_expiry_minutes between 1 and 10080);
