"""The setup doctor's I/O: facts for its checks (insight.domain grades them) and its fixes (DESIGN §11)."""
