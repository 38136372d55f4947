-- Position management I (issue 18): close_position's orders. The order is the agent's own
-- (source 'agent', counted in its analytics), marked as a close of the whole position so a
-- counterfactual replay closes whatever it holds then, as the live path did.
alter table orders add column closes_position boolean not null default false;
