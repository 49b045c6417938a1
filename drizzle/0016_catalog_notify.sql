-- Catalog changes (hand-written): a statement that writes products, variants or locations, or sets a level's
-- safety stock, sends one NOTIFY {"t":"c"} on uc_live at COMMIT (PostgreSQL folds identical payloads of one
-- transaction into one). The anonymous response cache of every server process (src/graphql/response-cache.ts)
-- drops what it holds on it, as it does on every stock signal. Sales never set safety_stock, so they send none.
CREATE FUNCTION uc_notify_catalog() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('uc_live', '{"t":"c"}');
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER products_live AFTER INSERT OR UPDATE OR DELETE ON products FOR EACH STATEMENT EXECUTE FUNCTION uc_notify_catalog();
--> statement-breakpoint
CREATE TRIGGER variants_live AFTER INSERT OR UPDATE OR DELETE ON variants FOR EACH STATEMENT EXECUTE FUNCTION uc_notify_catalog();
--> statement-breakpoint
CREATE TRIGGER locations_live AFTER INSERT OR UPDATE OR DELETE ON locations FOR EACH STATEMENT EXECUTE FUNCTION uc_notify_catalog();
--> statement-breakpoint
CREATE TRIGGER inventory_levels_safety_stock_live AFTER UPDATE OF safety_stock ON inventory_levels FOR EACH STATEMENT EXECUTE FUNCTION uc_notify_catalog();
