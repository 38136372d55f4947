-- Loss streaks (issue 18 item 6): the run keeps its losing round trips in a row and the run
-- clock of the latest one, so the rules' cooldown_after_losses and halt_after_losses read one
-- row instead of the run's history. An exit fill (sell, cover) closes a round trip of the shares
-- it closed: its realized P&L ≤ 0 (a zero counts as a loss) adds one and stamps last_loss_at, a
-- gain resets the count; entries leave it. Kept by the fills trigger of migration 018, so every
-- path that books a fill counts it in the same statement (domain/decide.ts lossStreakAfter is
-- the same rule in memory). resume_trading after a loss_streak halt sets the count to 0.
alter table runs
  add column loss_streak integer not null default 0,
  add column last_loss_at timestamptz;

update runs r set loss_streak = s.n, last_loss_at = s.last_loss
from (
  select run_id,
         count(*) filter (where id > coalesce(last_win, 0))::int as n,
         max(clock) filter (where realized_pnl <= 0) as last_loss
  from (select f.run_id, f.id, f.clock, f.realized_pnl,
               max(f.id) filter (where f.realized_pnl > 0) over (partition by f.run_id) as last_win
        from fills f where f.side in ('sell', 'cover')) x
  group by run_id) s
where s.run_id = r.id;

create or replace function runs_count_fill() returns trigger language plpgsql as $$
declare
  d date := (new.clock at time zone 'America/New_York')::date;
  exit_fill boolean := new.side in ('sell', 'cover');
begin
  update runs set
    trades_in_run = trades_in_run + 1,
    -- a fill of an earlier day than the latest (never on today's paths) leaves the day's count
    trades_on_day = case when trades_day = d then trades_on_day + 1 when trades_day > d then trades_on_day else 1 end,
    trades_day = greatest(trades_day, d),
    loss_streak = case when not exit_fill then loss_streak when new.realized_pnl <= 0 then loss_streak + 1 else 0 end,
    last_loss_at = case when exit_fill and new.realized_pnl <= 0 then new.clock else last_loss_at end
  where id = new.run_id;
  return null;
end $$;
