-- Constant-cost orders (issue 19 item 2): nothing the order path reads grows with the run's
-- history. The run keeps its own trade counts (the rules' max_trades_per_run and
-- max_trades_per_day read them instead of counting every fill), kept by a trigger on fills
-- so every path that books a fill (orders, approvals, the clock's exits and resting orders)
-- counts it in the same statement.
alter table runs
  add column trades_in_run integer not null default 0,
  -- the New York day of the run's latest fill, and the fills booked on that day
  add column trades_day date,
  add column trades_on_day integer not null default 0;

update runs r set trades_in_run = c.n, trades_day = c.last_day, trades_on_day = c.on_last_day
from (
  select run_id, count(*)::int as n, max(day) as last_day,
         count(*) filter (where day = last_day)::int as on_last_day
  from (select run_id, (clock at time zone 'America/New_York')::date as day,
               max((clock at time zone 'America/New_York')::date) over (partition by run_id) as last_day
        from fills) f
  group by run_id) c
where c.run_id = r.id;

create function runs_count_fill() returns trigger language plpgsql as $$
declare
  d date := (new.clock at time zone 'America/New_York')::date;
begin
  update runs set
    trades_in_run = trades_in_run + 1,
    -- a fill of an earlier day than the latest (never on today's paths) leaves the day's count
    trades_on_day = case when trades_day = d then trades_on_day + 1 when trades_day > d then trades_on_day else 1 end,
    trades_day = greatest(trades_day, d)
  where id = new.run_id;
  return null;
end $$;

create trigger fills_count_trades after insert on fills for each row execute function runs_count_fill();

-- The throttle counts the model's agent orders of the last minute on now() (stable within
-- the statement, so this index serves it; clock_timestamp() is volatile and no index helps).
create index orders_agent_recent on orders (model_id, created_at) where source = 'agent';

-- The clock's fills-per-day since the step's first day reads only those days' fills.
create index fills_run_clock on fills (run_id, clock);
