using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;

namespace Onboarding.ServiceDefaults.Http;

/// <summary>
/// A body that is not valid JSON (or otherwise unreadable) is the caller's mistake: answer with the status
/// ASP.NET Core chose (400, 413, …) as ProblemDetails and log a warning, not a 500 and an error.
/// </summary>
internal sealed class BadRequestExceptionHandler(IProblemDetailsService problemDetails, ILogger<BadRequestExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException badRequest)
            return false;

        logger.LogWarning("Bad request {Method} {Path}: {Reason}", httpContext.Request.Method, httpContext.Request.Path, badRequest.Message);
        httpContext.Response.StatusCode = badRequest.StatusCode;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = new ProblemDetails
            {
                Status = badRequest.StatusCode,
                Title = "The request could not be read",
                Detail = badRequest.InnerException?.Message ?? badRequest.Message,
            },
            Exception = exception,
        });
    }
}
