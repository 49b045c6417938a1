-- The core statements of one placeOrder transaction (a POS carry-out), as src/orders/placing.ts runs them,
-- for pgbench (run by bench/run.ts: pgbench -n -M prepared -c 16 -j 2 -T 10 -f bench/place-order.sql
-- -D nstores=32 -D nskus=500 -D hot=0 -D hot_store=1 -D hot_sku=1 <database>).
--
-- hot=0: a basket of two different SKUs (1 unit each) at the client's store (client_id % nstores + 1), the
--        same as the app's POS clients in bench 2.
-- hot=1: one unit of SKU hot_sku at store hot_store, for every client (bench 3); once it is sold out the
--        guarded UPDATE matches no row and the transaction is rolled back (the app's INSUFFICIENT_STOCK).
-- bench_stores / bench_variants map numbers to the ids the services created; bench_uuid7() makes
-- time-ordered ids as the app's UUIDv7 does. Quantities and the level guard are the app's sellAtTill.
\if :hot
\set store :hot_store
\set s1 :hot_sku
\set s2 :hot_sku
\else
\set store :client_id % :nstores + 1
\set a random(1, :nskus)
\set b 1 + (:a + random(0, :nskus - 2)) % :nskus
\set s1 least(:a, :b)
\set s2 greatest(:a, :b)
\endif
\set actor 1000000 + :client_id

-- Outside the transaction, as the app resolves the till and the SKUs first (ids are made in the app).
SELECT s.id AS loc, 'S' || s.code AS scope, a.id AS v1, a.price AS p1, b.id AS v2, b.price AS p2,
       bench_uuid7() AS oid, bench_uuid7() AS l1, bench_uuid7() AS l2, bench_uuid7() AS fid
  FROM bench_stores s, bench_variants a, bench_variants b
 WHERE s.n = :store AND a.n = :s1 AND b.n = :s2 \gset
\if :hot
\set total :p1
\else
\set total :p1 + :p2
\endif
\set ok2 1

BEGIN;
-- idempotency/service.ts once(): the key first
INSERT INTO idempotency_keys (actor, key, operation, request_hash, created_at)
VALUES ('pgbench:' || :actor::text, 'pgb-' || :oid::text, 'placeOrder', md5(:oid::text), now())
ON CONFLICT DO NOTHING RETURNING key;
-- orders/placing.ts writeOrder(): the order's rows in one statement (data-modifying CTEs)
\if :hot
WITH l AS (INSERT INTO order_lines (id, order_id, position, variant_id, quantity, unit_price, discount, total, tax, tax_rate, fulfilled_quantity, cancelled_quantity, returned_quantity, fulfilled_at)
           VALUES (:l1::uuid, :oid::uuid, 0, :v1::uuid, 1, :p1::bigint, 0, :p1::bigint, 0, 0, 1, 0, 0, now())),
     f AS (INSERT INTO fulfilments (id, order_id, type, status, location_id, address, pickup_code, ready_at, expires_at, collected_at, shipped_at, created_at)
           VALUES (:fid::uuid, :oid::uuid, 'CARRY_OUT', 'FULFILLED', :loc::uuid, NULL, NULL, NULL, NULL, NULL, NULL, now())),
     fl AS (INSERT INTO fulfilment_lines (fulfilment_id, order_line_id, source_location_id, quantity) VALUES (:fid::uuid, :l1::uuid, :loc::uuid, 1)),
     t AS (INSERT INTO tenders (id, order_id, position, type, amount, points, tendered, change, gift_card_id, refunded_amount, refunded_points, created_at)
           VALUES (bench_uuid7(), :oid::uuid, 0, 'CARD', :total::bigint, NULL, NULL, NULL, NULL, 0, 0, now()))
INSERT INTO orders (id, number, channel, location_id, customer_id, status, currency_code, total, points_earned, points_reversed, actor, sales_associate_id, created_at)
VALUES (:oid::uuid, 'pending-' || :oid::text, 'POS', :loc::uuid, NULL, 'COMPLETED', 'USD', :total::bigint, 0, 0, 'pgbench:' || :actor::text, NULL, now());
\else
WITH l AS (INSERT INTO order_lines (id, order_id, position, variant_id, quantity, unit_price, discount, total, tax, tax_rate, fulfilled_quantity, cancelled_quantity, returned_quantity, fulfilled_at)
           VALUES (:l1::uuid, :oid::uuid, 0, :v1::uuid, 1, :p1::bigint, 0, :p1::bigint, 0, 0, 1, 0, 0, now()),
                  (:l2::uuid, :oid::uuid, 1, :v2::uuid, 1, :p2::bigint, 0, :p2::bigint, 0, 0, 1, 0, 0, now())),
     f AS (INSERT INTO fulfilments (id, order_id, type, status, location_id, address, pickup_code, ready_at, expires_at, collected_at, shipped_at, created_at)
           VALUES (:fid::uuid, :oid::uuid, 'CARRY_OUT', 'FULFILLED', :loc::uuid, NULL, NULL, NULL, NULL, NULL, NULL, now())),
     fl AS (INSERT INTO fulfilment_lines (fulfilment_id, order_line_id, source_location_id, quantity)
            VALUES (:fid::uuid, :l1::uuid, :loc::uuid, 1), (:fid::uuid, :l2::uuid, :loc::uuid, 1)),
     t AS (INSERT INTO tenders (id, order_id, position, type, amount, points, tendered, change, gift_card_id, refunded_amount, refunded_points, created_at)
           VALUES (bench_uuid7(), :oid::uuid, 0, 'CARD', :total::bigint, NULL, NULL, NULL, NULL, 0, 0, now()))
INSERT INTO orders (id, number, channel, location_id, customer_id, status, currency_code, total, points_earned, points_reversed, actor, sales_associate_id, created_at)
VALUES (:oid::uuid, 'pending-' || :oid::text, 'POS', :loc::uuid, NULL, 'COMPLETED', 'USD', :total::bigint, 0, 0, 'pgbench:' || :actor::text, NULL, now());
\endif
-- inventory/service.ts sellAtTill(): one guarded UPDATE per (location, variant), in key order; the movement rows
-- ride on the last one (data-modifying CTE)
\if :hot
WITH m AS (
  INSERT INTO stock_movements (id, kind, location_id, variant_id, on_hand_delta, reserved_delta, quantity, reference, order_id, return_id, transfer_id, reason, actor, created_at)
  VALUES (bench_uuid7(), 'SALE', :loc::uuid, :v1::uuid, -1, 0, 1, NULL, :oid::uuid, NULL, NULL, NULL, 'pgbench:' || :actor::text, now())),
     u AS (
  UPDATE inventory_levels SET on_hand = on_hand + -1, reserved = reserved + 0, updated_at = now()
   WHERE location_id = :loc::uuid AND variant_id = :v1::uuid AND on_hand - reserved >= 1
  RETURNING 1)
SELECT count(*) AS ok1 FROM u \gset
\else
WITH u AS (
  UPDATE inventory_levels SET on_hand = on_hand + -1, reserved = reserved + 0, updated_at = now()
   WHERE location_id = :loc::uuid AND variant_id = :v1::uuid AND on_hand - reserved >= 1
  RETURNING 1)
SELECT count(*) AS ok1 FROM u \gset
\if :ok1 = 1
WITH m AS (
  INSERT INTO stock_movements (id, kind, location_id, variant_id, on_hand_delta, reserved_delta, quantity, reference, order_id, return_id, transfer_id, reason, actor, created_at)
  VALUES (bench_uuid7(), 'SALE', :loc::uuid, :v1::uuid, -1, 0, 1, NULL, :oid::uuid, NULL, NULL, NULL, 'pgbench:' || :actor::text, now()),
         (bench_uuid7(), 'SALE', :loc::uuid, :v2::uuid, -1, 0, 1, NULL, :oid::uuid, NULL, NULL, NULL, 'pgbench:' || :actor::text, now())),
     u AS (
  UPDATE inventory_levels SET on_hand = on_hand + -1, reserved = reserved + 0, updated_at = now()
   WHERE location_id = :loc::uuid AND variant_id = :v2::uuid AND on_hand - reserved >= 1
  RETURNING 1)
SELECT count(*) AS ok2 FROM u \gset
\endif
\endif
\if :ok1 = 1 AND :ok2 = 1
-- orders/placing.ts assignNumber(): the store's sequence (locks nothing), the number set and the row returned
UPDATE orders SET number = (SELECT :scope::text || '-' || lpad(n::text, greatest(6, length(n::text)), '0') FROM nextval('order_number_' || lower(:scope::text)) AS n)
 WHERE id = :oid::uuid RETURNING *;
-- orders/events.ts recordEvent(): the outbox row
INSERT INTO order_events (id, order_id, customer_id, kind, channel, location_id, fulfilment_id, return_id, summary, payload, actor, created_at, published_at)
VALUES (bench_uuid7(), :oid::uuid, NULL, 'ORDER_PLACED', 'POS', :loc::uuid, NULL, NULL, 'Order placed (carry-out)', NULL, 'pgbench:' || :actor::text, now(), NULL);
-- once(): the result stored with the key
UPDATE idempotency_keys SET result = jsonb_build_object('orderId', :oid::text, 'changeDue', 0)
 WHERE actor = 'pgbench:' || :actor::text AND key = 'pgb-' || :oid::text;
COMMIT;
\else
ROLLBACK;
\endif
