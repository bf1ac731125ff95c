"""Streamlit helpers shared by the pages: the database, the logged-in user, the string table,
running a service call and showing its errors."""
