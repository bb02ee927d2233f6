namespace Onboarding.ServiceDefaults.Database;

public static class PostgresTime
{
    /// <summary>
    /// The time as PostgreSQL stores it: <c>timestamptz</c> keeps microseconds, .NET ticks are 100 ns. A time returned to
    /// a client before it is read back must equal the stored one, so it is cut to microseconds (and made UTC) first.
    /// </summary>
    public static DateTimeOffset ToPostgresPrecision(this DateTimeOffset time) =>
        new(time.UtcTicks - (time.UtcTicks % (TimeSpan.TicksPerMillisecond / 1000)), TimeSpan.Zero);
}
