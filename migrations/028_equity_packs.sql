-- A finished run's equity curve, packed once (issue 19 item 3). Reading a 1M-point curve
-- row by row costs seconds on the embedded database; a finished run's curve never changes, so
-- the first analyst read of a finished run (shared/store/analyst.ts loadEquityColumns) packs
-- the doubles it read here (values as big-endian float8s, clocks as float8s or as runs of
-- evenly spaced clocks) and later reads take this one row. A running run is never packed. The
-- read checks the pack against the run's points (first and last clock, its count) and reads
-- the points otherwise.
create table equity_packs (
  run_id integer primary key references runs(id) on delete cascade,
  points integer not null,
  first_clock timestamptz not null,
  last_clock timestamptz not null,
  -- epoch milliseconds (whole, floor): points × float8, or (first, step, count) float8 triples, shorter
  clock bytea not null,
  -- total_value in dollars: points × float8 (cents / 100, as the points were read)
  value bytea not null,
  created_at timestamptz not null default now()
);
-- float8 bytes hardly compress: stored out of line as they are, never tried by pglz
alter table equity_packs alter column clock set storage external, alter column value set storage external;

-- Anything that changes a run's recorded points drops its pack (a later read packs it again).
-- Updates: per row, and only when a point really changes (the run end's last point written
-- again at the same clock with the same value does not fire).
create function equity_packs_drop_row() returns trigger language plpgsql as $$
begin
  delete from equity_packs where run_id in (old.run_id, new.run_id);
  return null;
end $$;
create trigger equity_snapshots_update_drops_pack after update on equity_snapshots
  for each row when (old.run_id <> new.run_id or old.clock <> new.clock or old.total_value <> new.total_value)
  execute function equity_packs_drop_row();

-- Deletes: once per statement, over the runs it touched.
create function equity_packs_drop_deleted() returns trigger language plpgsql as $$
begin
  delete from equity_packs p where p.run_id in (select distinct run_id from gone);
  return null;
end $$;
create trigger equity_snapshots_delete_drops_pack after delete on equity_snapshots
  referencing old table as gone for each statement execute function equity_packs_drop_deleted();

create function equity_packs_drop_all() returns trigger language plpgsql as $$
begin
  delete from equity_packs;
  return null;
end $$;
create trigger equity_snapshots_truncate_drops_packs after truncate on equity_snapshots
  for each statement execute function equity_packs_drop_all();
