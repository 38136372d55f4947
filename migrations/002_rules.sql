-- Structured, versioned trading rules and the history of every change.

create table rules (
  id serial primary key,
  model_id integer not null references models(id) on delete cascade,
  rule_name text not null,
  rule_description text not null default '',
  rule_category text not null check (rule_category in
    ('position_sizing', 'risk', 'timing', 'screening', 'stop_loss', 'strategy', 'entry_exit')),
  enforcement_params jsonb not null,
  applies_to_symbols text[],
  exclude_symbols text[],
  priority integer not null default 5 check (priority between 1 and 10),
  is_active boolean not null default true,
  created_by text not null default 'user' check (created_by in ('user', 'ai_suggested', 'template')),
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (model_id, rule_name)
);

-- rule_id has no foreign key: a deleted rule's history outlives it.
create table rule_history (
  id serial primary key,
  model_id integer not null references models(id) on delete cascade,
  rule_id integer not null,
  action text not null check (action in ('create', 'update', 'delete', 'activate', 'deactivate')),
  -- who: the API key's visible prefix; through which tool (apply_template, update_rule…)
  key_prefix text not null,
  tool text not null,
  before jsonb,
  after jsonb,
  changed_at timestamptz not null default clock_timestamp()
);
create index rule_history_model on rule_history (model_id, id);
