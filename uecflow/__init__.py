"""uecflow: urgent and emergency care flow monitor for North East London."""
