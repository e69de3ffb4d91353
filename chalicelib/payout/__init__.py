"""Shops get paid: their Stripe Connect account, their payout schedule, the payout sweep and worker,
clawbacks, disputes, statements and the mall's commission report (README, "Payouts")."""
