-- Sign-up took a notification webhook URL that nothing ever called: owner notifications are configured with
-- PUT /api/notifications/webhook, which must show its signing secret once (Notifications module). The column only
-- ever held URLs that were never used; sign-up now refuses the field and says where webhooks are configured.
ALTER TABLE accounts.customers DROP COLUMN notification_webhook_url;
