using System.Security.Cryptography;
using Onboarding.Ssh.KeyExchange;
using Onboarding.Ssh.Keys;
using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.Transport;

/// <summary>
/// The key-exchange state machine of <see cref="SshTransport"/> (RFC 4253 §7–§9, strict KEX, RFC 8308
/// ext-info, RFC 6187 host keys): KEXINIT, the ECDH/DH exchange, host key verification, NEWKEYS and the
/// switch to new keys. Packet sealing, the write queue and message dispatch stay in SshTransport.cs.
/// </summary>
internal sealed partial class SshTransport
{
    // Caller holds _sendSync.
    private void BeginKexLocked()
    {
        if (_inKex)
            return;
        _inKex = true;
        var isServer = _settings.IsServer;
        var hostKeyAlgorithms = isServer ? ServerHostKeyAlgorithms() : _settings.HostKeyAlgorithms;
        var kex = new List<string>(_settings.KeyExchange);
        if (!_firstKexDone)
        {
            // RFC 8308 §2.1 and OpenSSH PROTOCOL §1.10: pseudo-algorithms, only in the first KEXINIT.
            if (_settings.OfferExtInfo)
                kex.Add(isServer ? ExtInfoServer : ExtInfoClient);
            if (_settings.OfferStrictKex)
                kex.Add(isServer ? StrictKexServer : StrictKexClient);
        }
        var msg = new KexInitMessage
        {
            KexAlgorithms = [.. kex],
            ServerHostKeyAlgorithms = [.. hostKeyAlgorithms],
            EncryptionClientToServer = [.. _settings.Ciphers],
            EncryptionServerToClient = [.. _settings.Ciphers],
            MacClientToServer = [.. _settings.Macs],
            MacServerToClient = [.. _settings.Macs],
        };
        using var w = new SshWriter(512);
        msg.Write(w);
        _ourKexInit = w.ToArray();
        _ourKexInitMessage = msg;
        EnqueueLocked(_ourKexInit);
    }

    private List<string> ServerHostKeyAlgorithms()
    {
        var list = new List<string>();
        foreach (var key in _settings.HostKeys)
        {
            foreach (var alg in key.SignatureAlgorithms)
            {
                if (!list.Contains(alg))
                    list.Add(alg);
            }
        }
        return list;
    }

    private async ValueTask<byte[]> ReadKexPacketAsync(byte expected, CancellationToken ct)
    {
        while (true)
        {
            var p = await _packets.ReadPacketAsync(ct).ConfigureAwait(false);
            if (p[0] == expected)
                return p;
            if (p[0] == DisconnectMessage.Number)
                throw PeerDisconnected(p);
            if (p[0] is SshMessageNumbers.Ignore or SshMessageNumbers.Debug or SshMessageNumbers.Unimplemented)
            {
                // Strict KEX (CVE-2023-48795): nothing but the key exchange itself during the first one.
                if (StrictKex && !_firstKexDone)
                    throw Error(SshDisconnectReason.ProtocolError, $"Message {p[0]} during strict key exchange");
                continue;
            }
            throw Error(SshDisconnectReason.ProtocolError, $"Unexpected message {p[0]} during key exchange (expected {expected})");
        }
    }

    private async Task RunKexAsync(byte[] peerKexInitPayload, CancellationToken ct)
    {
        var isServer = _settings.IsServer;
        var r = new SshReader(peerKexInitPayload);
        var peer = KexInitMessage.Read(ref r);
        if (_firstKexDone && _inKex && _ourKexInit is null)
            throw Error(SshDisconnectReason.ProtocolError, "Key exchange state");
        lock (_sendSync)
            BeginKexLocked();
        var ours = _ourKexInitMessage!;
        var client = isServer ? peer : ours;
        var server = isServer ? ours : peer;
        var iC = isServer ? peerKexInitPayload : _ourKexInit!;
        var iS = isServer ? _ourKexInit! : peerKexInitPayload;
        var first = !_firstKexDone;
        if (first)
        {
            StrictKex = _settings.OfferStrictKex && peer.KexAlgorithms.Contains(isServer ? StrictKexClient : StrictKexServer);
            // Strict KEX: the peer's KEXINIT must have been its first packet (sequence number 0).
            if (StrictKex && _packets.ReadSequence != 1)
                throw Error(SshDisconnectReason.ProtocolError, "KEXINIT was not the first packet under strict KEX");
            _peerWantsExtInfo = _settings.OfferExtInfo && peer.KexAlgorithms.Contains(isServer ? ExtInfoClient : ExtInfoServer);
        }

        var negotiated = NegotiatedAlgorithms.Negotiate(client, server);
        // RFC 4253 §7: a wrong guessed packet is ignored.
        if (peer.FirstKexPacketFollows && (peer.KexAlgorithms[0] != negotiated.KeyExchange || peer.ServerHostKeyAlgorithms[0] != negotiated.HostKey))
            await ReadKexPacketAsync(KexEcdhInitMessage.Number, ct).ConfigureAwait(false);

        using var method = KeyExchangeMethod.Create(negotiated.KeyExchange);
        byte[] sharedSecret;
        byte[] exchangeHash;
        if (!isServer)
        {
            using (var w = new SshWriter())
            {
                new KexEcdhInitMessage(method.PublicValue).Write(w, method.UsesMpint);
                SendKexMessage(w.WrittenSpan);
            }
            var replyPayload = await ReadKexPacketAsync(KexEcdhReplyMessage.Number, ct).ConfigureAwait(false);
            var rr = new SshReader(replyPayload);
            var reply = KexEcdhReplyMessage.Read(ref rr, method.UsesMpint);
            // RFC 6187: an x509v3-* blob carries a certificate chain; the leaf's key signs the exchange hash.
            var x509 = X509HostKey.IsX509Algorithm(negotiated.HostKey) ? X509HostKey.Parse(negotiated.HostKey, reply.HostKey) : null;
            var hostKey = x509?.LeafKey ?? SshPublicKey.Parse(reply.HostKey);
            if (x509 is null && SshKeyAlgorithms.KeyTypeForSignature(negotiated.HostKey) != hostKey.KeyType)
                throw Error(SshDisconnectReason.KeyExchangeFailed, "Host key type does not match the negotiated algorithm");
            sharedSecret = method.Agree(reply.ServerPublic);
            exchangeHash = ExchangeHash(method, iC, iS, reply.HostKey, method.PublicValue, reply.ServerPublic, sharedSecret);
            var signatureValid = x509 is not null
                ? x509.Verify(negotiated.HostKey, reply.Signature, exchangeHash)
                : SignatureAlgorithmOf(reply.Signature) == negotiated.HostKey && hostKey.Verify(reply.Signature, exchangeHash);
            if (!signatureValid)
                throw Error(SshDisconnectReason.KeyExchangeFailed, "Host key signature is invalid");
            if (first)
            {
                var verifier = _settings.HostKeyVerifier ?? throw new InvalidOperationException("A host key verifier is required");
                var context = new SshHostKeyContext
                {
                    HostKey = hostKey,
                    HostKeyAlgorithm = negotiated.HostKey,
                    CertificateChain = x509?.Chain ?? [],
                    PreBannerLines = [.. _preBannerLines],
                    ServerVersion = PeerVersion!,
                    RemoteEndPoint = _settings.RemoteEndPoint,
                };
                if (!await verifier(context, ct).ConfigureAwait(false))
                    throw Error(SshDisconnectReason.HostKeyNotVerifiable, "Host key was not accepted");
                ServerHostKey = hostKey;
                HostKeyContext = context;
            }
            else if (!hostKey.BlobSpan.SequenceEqual(ServerHostKey!.BlobSpan))
            {
                throw Error(SshDisconnectReason.HostKeyNotVerifiable, "Host key changed during rekey");
            }
        }
        else
        {
            var initPayload = await ReadKexPacketAsync(KexEcdhInitMessage.Number, ct).ConfigureAwait(false);
            var ir = new SshReader(initPayload);
            var init = KexEcdhInitMessage.Read(ref ir, method.UsesMpint);
            var hostKey = HostKeyFor(negotiated.HostKey);
            var hostKeyBlob = hostKey.HostKeyBlob;
            sharedSecret = method.Agree(init.ClientPublic);
            exchangeHash = ExchangeHash(method, iC, iS, hostKeyBlob, init.ClientPublic, method.PublicValue, sharedSecret);
            var signature = hostKey.Sign(negotiated.HostKey, exchangeHash);
            using var w = new SshWriter(1024);
            new KexEcdhReplyMessage(hostKeyBlob, method.PublicValue, signature).Write(w, method.UsesMpint);
            SendKexMessage(w.WrittenSpan);
        }
        if (first)
            SessionId = exchangeHash;

        var keys = new SessionKeys(method.Hash, sharedSecret, exchangeHash, SessionId!, negotiated);
        CryptographicOperations.ZeroMemory(sharedSecret);
        var (outgoing, incoming) = isServer ? (keys.ServerToClient(), keys.ClientToServer()) : (keys.ClientToServer(), keys.ServerToClient());

        // RFC 4253 §7.3: after sending NEWKEYS, all outgoing packets use the new keys.
        lock (_sendSync)
        {
            ThrowIfClosed();
            EnqueueLocked([SshMessageNumbers.NewKeys]);
            // The old cipher may still be sealing nothing else: every packet is sealed under this lock.
            _packets.WriteCipher.Dispose();
            _packets.WriteCipher = outgoing;
            if (StrictKex)
                _packets.WriteSequence = 0; // strict KEX: sequence numbers restart at every NEWKEYS
            if (first && _peerWantsExtInfo && OurExtInfo() is { } extensions)
            {
                // RFC 8308 §2.4: EXT_INFO goes out as the next packet after our first NEWKEYS (both roles).
                using var w = new SshWriter();
                new ExtInfoMessage(extensions).Write(w);
                EnqueueLocked(w.WrittenSpan);
            }
        }

        await ReadKexPacketAsync(SshMessageNumbers.NewKeys, ct).ConfigureAwait(false);
        var oldIn = _packets.ReadCipher;
        _packets.ReadCipher = incoming;
        oldIn.Dispose();
        if (StrictKex)
            _packets.ReadSequence = 0;
        // RFC 8308 §2.4: the peer's EXT_INFO may be its next packet, if we announced ext-info.
        if (first)
            _extInfoMayFollowNewKeys = _settings.OfferExtInfo;

        lock (_sendSync)
        {
            Algorithms = negotiated;
            KeyExchangeCount++;
            _packets.BytesReadSinceKex = 0;
            _packets.BytesWrittenSinceKex = 0;
            _lastKexTicks = Environment.TickCount64;
            _firstKexDone = true;
            _inKex = false;
            _ourKexInit = null;
            // Messages held back during the exchange go out now, in order, under the new keys.
            foreach (var payload in _deferred)
            {
                _pendingBytes -= payload.Length;
                EnqueueLocked(payload);
            }
            _deferred.Clear();
            _deferredBytes = 0;
        }
    }

    // The server always announces server-sig-algs (RFC 8308 §3.1); the client sends EXT_INFO only when configured to.
    private Dictionary<string, string>? OurExtInfo()
    {
        var extensions = new Dictionary<string, string>(_settings.ExtInfo, StringComparer.Ordinal);
        if (_settings.IsServer)
            extensions[ExtInfoMessage.ServerSigAlgs] = string.Join(',', _settings.ServerSigAlgs);
        return extensions.Count == 0 ? null : extensions;
    }

    private SshHostKey HostKeyFor(string algorithm)
    {
        foreach (var key in _settings.HostKeys)
        {
            if (key.SignatureAlgorithms.Contains(algorithm))
                return key;
        }
        throw Error(SshDisconnectReason.KeyExchangeFailed, "No host key for " + algorithm);
    }

    private static string? SignatureAlgorithmOf(ReadOnlySpan<byte> signatureBlob)
    {
        try
        {
            var r = new SshReader(signatureBlob);
            return r.ReadAscii();
        }
        catch (SshProtocolException)
        {
            return null;
        }
    }

    /// <summary>
    /// RFC 4253 §8 / RFC 5656 §4 / RFC 8731 §3.1: H = HASH(V_C || V_S || I_C || I_S || K_S || Q_C/e || Q_S/f || K).
    /// </summary>
    private byte[] ExchangeHash(KeyExchangeMethod method, byte[] iC, byte[] iS, byte[] hostKeyBlob, byte[] clientPublic, byte[] serverPublic, byte[] sharedSecret)
    {
        var (vC, vS) = _settings.IsServer ? (PeerVersion!, _settings.Version) : (_settings.Version, PeerVersion!);
        using var w = new SshWriter(2048);
        w.WriteString(vC);
        w.WriteString(vS);
        w.WriteString(iC);
        w.WriteString(iS);
        w.WriteString(hostKeyBlob);
        if (method.UsesMpint)
        {
            w.WriteMpintUnsigned(clientPublic);
            w.WriteMpintUnsigned(serverPublic);
        }
        else
        {
            w.WriteString(clientPublic);
            w.WriteString(serverPublic);
        }
        w.WriteMpintUnsigned(sharedSecret);
        return CryptographicOperations.HashData(method.Hash, w.WrittenSpan);
    }
}
