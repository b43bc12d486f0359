-- What a support agent's session might send through the proxy.
SELECT id, name, email, ssn FROM customers
SELECT lower(c.email) AS contact FROM customers c
SELECT * FROM customers
SELECT count(email) FROM customers
SELECT id FROM customers WHERE ssn = '123-45-6789'
DELETE FROM customers WHERE id = 42
