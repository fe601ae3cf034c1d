"""The Streamlit ops console and its requests client of the ops API."""
