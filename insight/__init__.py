"""The callbridge service. Its folders are its layers (README "Layout"; checked by `lint-imports`):

- `domain/`: pure rules (phones, Aircall events, the call reducer, matching, cards, notes, actions);
- `upstream/`: the Bullhorn and Aircall REST clients and their error tree;
- `store/`: SQLAlchemy tables, migrations and the queries both processes run;
- `lookup/`: who owns a number (index, caches, live search), used by web and worker alike;
- `web/` and `worker/`: the two processes' own parts, wired in `app.py` and `worker/__main__.py`.
"""
