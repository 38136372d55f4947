-- The storage probe (issue 20 item 3): while a storage fault (disk full, read-only) is open,
-- /health commits an update of this one row to learn whether the database writes again.
create table storage_probe (
  id integer primary key check (id = 1),
  checked_at timestamptz not null default now()
);
insert into storage_probe (id) values (1);
