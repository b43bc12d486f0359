-- The example's data (run by run-test with psql, as the database owner, before the agent).
CREATE TABLE customers (
  id integer PRIMARY KEY,
  name text NOT NULL,
  email text NOT NULL,
  ssn text NOT NULL,
  plan text NOT NULL
);
CREATE TABLE orders (
  id integer PRIMARY KEY,
  customer_id integer NOT NULL REFERENCES customers (id),
  total numeric(10, 2) NOT NULL,
  status text NOT NULL
);
CREATE TABLE payments (
  id integer PRIMARY KEY,
  order_id integer NOT NULL,
  amount numeric(10, 2) NOT NULL,
  card_last4 text NOT NULL
);
INSERT INTO customers VALUES
  (1, 'Ada Lovelace', 'ada.lovelace@example.org', '123-45-6789', 'pro'),
  (2, 'Grace Hopper', 'grace.hopper@example.net', '987-65-4321', 'team'),
  (3, 'Alan Turing', 'alan.turing@example.com', '555-12-3456', 'free');
INSERT INTO orders VALUES
  (101, 1, 129.00, 'open'),
  (102, 2, 75.50, 'cancelled'),
  (103, 3, 19.99, 'cancelled'),
  (104, 2, 310.00, 'shipped');
INSERT INTO payments VALUES
  (9001, 101, 129.00, '4242'),
  (9002, 104, 310.00, '1881');
