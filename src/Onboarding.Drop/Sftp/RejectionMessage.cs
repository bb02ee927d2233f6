using System.Text;
using Onboarding.Inventory.Contracts;

namespace Onboarding.Drop.Sftp;

/// <summary>
/// The one line an uploader sees when a file is rejected (SSH stderr and the SFTP status message): the summary, the
/// first few reasons, then where the full report is. OpenSSH's sftp prints only its own text for a status code, and
/// a person at a terminal should not have to fetch the .result file to learn what was wrong; the length is bounded
/// because a file of thousands of bad records would otherwise flood the terminal and the status packet.
/// </summary>
internal static class RejectionMessage
{
    public const int MaxReasons = 3;

    /// <summary>Characters the reasons may take together; the summary and the pointer to the report come on top.</summary>
    public const int MaxReasonsLength = 1000;

    /// <summary>
    /// The outcome's summary followed by its first reasons: what the upload's stored summary says, so the outcome can
    /// be told to the client by whichever host bookkept it (inline or, after a crash, the outbox dispatcher).
    /// </summary>
    public static string Summary(BookkeepingOutcome outcome)
    {
        // A reason the summary already states (e.g. the first XML error) is not repeated.
        var reasons = outcome.Reasons.Where(r => !outcome.Summary.Contains(r, StringComparison.Ordinal)).ToList();
        var message = new StringBuilder(outcome.Summary);
        var shown = 0;
        var budget = MaxReasonsLength;
        foreach (var reason in reasons.Take(MaxReasons))
        {
            if (budget <= 0)
                break;
            message.Append(shown == 0 ? ": " : "; ").Append(Cut(reason, budget));
            budget -= reason.Length;
            shown++;
        }

        if (shown < reasons.Count)
            message.Append("; …and ").Append(reasons.Count - shown).Append(" more");
        return message.ToString();
    }

    /// <summary>The line the uploader sees: the stored summary (with its first reasons), then where the report is.</summary>
    public static string For(string fileName, string resultPath, string summary) =>
        $"record rejected: {fileName}: {summary} (details in {resultPath})";

    /// <summary>A reason longer than what is left is cut at a word boundary where there is one, and says so.</summary>
    private static string Cut(string reason, int budget)
    {
        if (reason.Length <= budget)
            return reason;
        var end = reason.LastIndexOf(' ', budget - 1);
        return string.Concat(reason.AsSpan(0, end > budget / 2 ? end : budget - 1), "…");
    }
}
