"""Where money arrives. Each entry point that can capture a payment (the
provider's webhook, the sandbox bank, an offline payment confirmed by staff)
captures through payments and then, in the same transaction, lets the
contexts above payments look at the order just paid: trust screens it for
fraud, so that a flagged line's commission is held from the moment it is paid.
Payments and orders sit below trust and never call it; `run-jobs` screens
whatever was paid some other way."""
