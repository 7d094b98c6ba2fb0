"""Data access: the only place with SQL. Functions take a psycopg connection and return
plain rows or typed models; driver errors are wrapped before they leave."""
