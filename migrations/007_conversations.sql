-- A system agent's chat history about a model, and optionally about one of its runs.

create table conversation_turns (
  id serial primary key,
  model_id integer not null references models(id) on delete cascade,
  run_id integer references runs(id) on delete cascade,
  role text not null check (role in ('user', 'assistant', 'tool')),
  content text not null,
  -- the tool calls an assistant turn made, as the client sent them (a JSON array)
  tool_calls jsonb,
  -- on a tool turn: the id of the call it answers
  tool_call_id text,
  created_at timestamptz not null default clock_timestamp()
);
create index conversation_turns_model on conversation_turns (model_id, id);
create index conversation_turns_run on conversation_turns (run_id, id) where run_id is not null;
