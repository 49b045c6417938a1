-- Live events (hand-written): each statement that writes stock movements, order events or pickup fulfilments
-- sends one small NOTIFY per changed row on channel uc_live (ids only). PostgreSQL delivers notifications only
-- when the transaction commits and drops them on rollback, so subscribers never see an uncommitted change, and
-- the writers issue no extra statement. Every server process LISTENs on one connection and fans out in-process.
CREATE FUNCTION uc_notify_stock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('uc_live', json_build_object('t', 's', 'l', m.location_id, 'v', m.variant_id)::text)
     FROM (SELECT DISTINCT location_id, variant_id FROM new_rows) m;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER stock_movements_live AFTER INSERT ON stock_movements
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION uc_notify_stock();
--> statement-breakpoint
CREATE FUNCTION uc_notify_order_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('uc_live', json_build_object('t', 'o', 'e', e.id, 'o', e.order_id, 'c', e.customer_id, 'k', e.kind, 'at', e.created_at)::text)
     FROM new_rows e;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER order_events_live AFTER INSERT ON order_events
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION uc_notify_order_event();
--> statement-breakpoint
CREATE FUNCTION uc_notify_pickup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('uc_live', json_build_object('t', 'p', 'f', f.id, 'o', f.order_id, 'l', f.location_id, 's', f.status)::text)
     FROM new_rows f WHERE f.type = 'PICKUP';
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER fulfilments_live_insert AFTER INSERT ON fulfilments
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION uc_notify_pickup();
--> statement-breakpoint
CREATE TRIGGER fulfilments_live_update AFTER UPDATE ON fulfilments
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION uc_notify_pickup();
--> statement-breakpoint
-- Events recorded before webhooks existed are history, not news: no endpoint is sent them.
UPDATE order_events SET published_at = now() WHERE published_at IS NULL;
