-- advance_run's client_request_id (issue 20 item 6): the first answer of each (run, id) is
-- kept with the steps it took, in the same transaction, so a retry after a lost answer (a
-- shutdown, a dropped connection) returns it instead of advancing the clock again.
create table advance_requests (
  run_id integer not null references runs(id) on delete cascade,
  client_request_id text not null,
  answer jsonb not null,
  created_at timestamptz not null default now(),
  primary key (run_id, client_request_id)
);
