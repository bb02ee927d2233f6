namespace Onboarding.DeviceSim.Fleet;

/// <summary>
/// A progress line while work runs: on a terminal one line rewritten in place four times a second; into a file or a
/// pipe (CI logs, <c>tee</c>) one line per second, since carriage returns there only pile up.
/// </summary>
internal static class LiveProgress
{
    public static async Task RunAsync(Task work, Func<string> line, TextWriter output, bool? terminal = null)
    {
        var inPlace = terminal ?? !Console.IsOutputRedirected;
        var interval = TimeSpan.FromMilliseconds(inPlace ? 250 : 1000);
        var width = 0;
        while (await Task.WhenAny(work, Task.Delay(interval, CancellationToken.None)) != work)
            Write(line());
        Write(line());
        if (inPlace)
            await output.WriteLineAsync();
        await work;

        void Write(string text)
        {
            if (!inPlace)
            {
                output.WriteLine(text);
                return;
            }
            // Pad over what the longer previous line left behind.
            output.Write("\r" + text.PadRight(width));
            width = text.Length;
            output.Flush();
        }
    }
}
