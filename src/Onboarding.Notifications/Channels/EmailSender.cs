using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Onboarding.Notifications.Channels;

/// <summary>Sends one delivery as a plain-text e-mail through the configured SMTP relay (<c>Notifications:Smtp</c>) with MailKit.</summary>
internal sealed class EmailSender(IOptions<NotificationsOptions> options)
{
    public bool Enabled => options.Value.Smtp.Enabled;

    public async Task<DeliveryOutcome> SendAsync(Guid deliveryId, string to, string body, CancellationToken cancellationToken)
    {
        var smtp = options.Value.Smtp;
        if (!smtp.Enabled)
            return DeliveryOutcome.Failure(null, "e-mail is not configured on this host (Notifications:Smtp:Host)");

        var (subject, text) = OwnerEventEmail.Render(body);
        using var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(smtp.From!));
        message.To.Add(MailboxAddress.Parse(to));
        message.Subject = subject;
        // The receiver's dedup key, as on the webhook.
        message.Headers.Add("X-Onboarding-Delivery", deliveryId.ToString("D"));
        message.Body = new TextPart("plain") { Text = text };

        using var client = new SmtpClient { Timeout = (int)smtp.Timeout.TotalMilliseconds };
        try
        {
            var security = smtp.UseTls switch
            {
                SmtpTls.None => SecureSocketOptions.None,
                SmtpTls.SslOnConnect => SecureSocketOptions.SslOnConnect,
                _ => SecureSocketOptions.StartTls,
            };
            await client.ConnectAsync(smtp.Host!, smtp.Port, security, cancellationToken);
            if (!string.IsNullOrEmpty(smtp.User))
                await client.AuthenticateAsync(smtp.User, smtp.Password ?? "", cancellationToken);
            // MailKit throws SmtpCommandException for any reply other than 2xx, so reaching here means 250 OK.
            await client.SendAsync(message, cancellationToken);
            await client.DisconnectAsync(quit: true, cancellationToken);
            return DeliveryOutcome.Success(250);
        }
        catch (SmtpCommandException ex)
        {
            return DeliveryOutcome.Failure((int)ex.StatusCode, $"SMTP {(int)ex.StatusCode}: {ex.Message}");
        }
        catch (Exception ex) when (ex is SmtpProtocolException or ServiceNotConnectedException or SocketException or IOException
            or AuthenticationException or SslHandshakeException or TimeoutException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return DeliveryOutcome.Failure(null, $"{ex.GetType().Name}: {ex.Message}");
        }
    }
}
