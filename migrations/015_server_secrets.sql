-- Secrets the servers share through the database, so any replica verifies what another signed:
-- 'request_state' signs the requestState of an input_required approval (HMAC-SHA256).
-- Made once by the first server that needs it (insert ... on conflict do nothing).
create table server_secrets (
  name text primary key,
  secret bytea not null,
  created_at timestamptz not null default now()
);
