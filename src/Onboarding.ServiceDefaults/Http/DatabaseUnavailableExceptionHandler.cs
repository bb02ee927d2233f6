using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Onboarding.ServiceDefaults.Http;

/// <summary>
/// A request that failed because PostgreSQL was unreachable, restarting or briefly refusing (Npgsql's transient errors,
/// e.g. the first request on a pooled connection the database ended) answers 503 with Retry-After instead of 500:
/// retrying is the right move for the client. Npgsql drops the broken connection, so the retry gets a working one.
/// </summary>
internal sealed class DatabaseUnavailableExceptionHandler(IProblemDetailsService problemDetails, ILogger<DatabaseUnavailableExceptionHandler> logger)
    : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var database = Find(exception);
        if (database is not { IsTransient: true })
            return false;

        logger.LogWarning(database, "Database unavailable for {Method} {Path}; answered 503", httpContext.Request.Method, httpContext.Request.Path);
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = "1";
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Database unavailable",
                Detail = "The database could not be reached or is restarting; retry in a moment.",
            },
            Exception = exception,
        });
    }

    private static NpgsqlException? Find(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (e is NpgsqlException npgsql)
                return npgsql;
        }
        return null;
    }
}
