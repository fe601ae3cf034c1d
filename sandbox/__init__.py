"""Local fakes of Bullhorn REST and Aircall (ASGI apps), their demo data and a call simulator."""
