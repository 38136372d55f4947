-- The cache epoch: a counter that every cached copy carries. A change that must invalidate
-- copies (an import of bars) bumps it in its own transaction, so a copy made before it is
-- ignored even by a Redis that missed the invalidation (down, or restored from a snapshot).
create table cache_epoch (
  id boolean primary key default true check (id),
  epoch bigint not null default 0
);
insert into cache_epoch (id, epoch) values (true, 0);
