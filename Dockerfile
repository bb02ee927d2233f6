# Build and run the Onboarding host. docker-compose.yml wires it to PostgreSQL.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/Onboarding.Host -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
# The key store (SSH host keys, telemetry device CA): generated on first start, kept in a volume, never in the image.
ENV KeyStore__Directory=/var/lib/onboarding/keys
VOLUME /var/lib/onboarding/keys
# 8080: REST + Swagger UI; 2222: SFTP drop for manufacturers; 4334: call home (RFC 8071);
# 8443: NMS bootstrap server, 8444: redirect server (RFC 8572, client certificates required).
EXPOSE 8080 2222 4334 8443 8444
ENTRYPOINT ["dotnet", "Onboarding.Host.dll"]
