-- Honest books II (issue 8): short margin, refused orders without a run, day marks.

-- Reg T style collateral beyond a short's proceeds (0.5: a short needs its value × 1.5).
alter table models add column short_margin_pct numeric(6,4) not null default 0.5
  check (short_margin_pct >= 0 and short_margin_pct <= 5);

-- An order refused while the model had no running run is stored without one: a refusal
-- must not leave a new live run behind.
alter table orders alter column run_id drop not null;

-- The value of a run's account at each New York session close it passed: day P&L and the
-- daily loss limits count from the previous session's close.
create table day_marks (
  run_id integer not null references runs(id) on delete cascade,
  day date not null,
  close_value numeric(18,2) not null,
  primary key (run_id, day)
);
