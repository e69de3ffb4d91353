"""What the mall owes each shop: commission rates, the pure arithmetic of a sub-order's earnings, and the
append-only ledger entries written in the transactions of the changes that cause them."""
