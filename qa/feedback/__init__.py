"""Users' verdicts on answers: the append-only log (store level); `qa.eval.feedback` turns it into evaluation."""
