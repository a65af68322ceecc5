// Passkeys on the hosted pages (WebAuthn). The page carries the ceremony's options as JSON in
// <script type="application/json" id="passkey-options">; this script asks the browser for a
// credential and posts it in the page's passkey form. Without JavaScript or WebAuthn, nothing
// here runs and the password forms work as before.
(function () {
  "use strict";

  var data = document.getElementById("passkey-options");
  var form = document.getElementById("passkey-form");
  if (!data || !form || !window.PublicKeyCredential) {
    return;
  }
  var options = JSON.parse(data.textContent);
  var mode = form.getAttribute("data-mode");
  var status = document.getElementById("passkey-status");

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(base64 + "===".slice((base64.length + 3) % 4));
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) {
      bytes[i] = raw.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) {
      raw += String.fromCharCode(bytes[i]);
    }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      return { type: item.type, id: toBytes(item.id), transports: item.transports };
    });
  }

  function creationOptions() {
    var copy = Object.assign({}, options);
    copy.challenge = toBytes(options.challenge);
    copy.user = Object.assign({}, options.user, { id: toBytes(options.user.id) });
    copy.excludeCredentials = descriptors(options.excludeCredentials);
    return copy;
  }

  function requestOptions() {
    var copy = Object.assign({}, options);
    copy.challenge = toBytes(options.challenge);
    copy.allowCredentials = descriptors(options.allowCredentials);
    return copy;
  }

  function credentialJSON(credential) {
    var response = credential.response;
    var json = {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: toText(response.clientDataJSON) },
    };
    if (response.attestationObject) {
      json.response.attestationObject = toText(response.attestationObject);
      json.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      json.response.authenticatorData = toText(response.authenticatorData);
      json.response.signature = toText(response.signature);
      json.response.userHandle = response.userHandle ? toText(response.userHandle) : null;
    }
    return JSON.stringify(json);
  }

  function submit(credential) {
    form.elements.credential.value = credentialJSON(credential);
    form.submit();
  }

  function failed(error) {
    if (error && error.name === "AbortError") {
      return;
    }
    if (status) {
      // The sentence comes from the page, in its language.
      status.textContent = status.getAttribute("data-failed");
      status.hidden = false;
    }
  }

  var pending = null;

  function ask(mediation) {
    if (pending) {
      pending.abort();
    }
    pending = new AbortController();
    var request = { publicKey: requestOptions(), signal: pending.signal };
    if (mediation) {
      request.mediation = mediation;
    }
    return navigator.credentials.get(request).then(function (credential) {
      if (credential) {
        submit(credential);
      }
    });
  }

  var button = document.getElementById("passkey-button");
  if (button) {
    button.hidden = false;
    button.addEventListener("click", function (event) {
      event.preventDefault();
      if (mode === "register") {
        navigator.credentials.create({ publicKey: creationOptions() }).then(submit, failed);
      } else {
        ask(null).catch(failed);
      }
    });
  }

  // Conditional UI: the browser offers the account's passkeys in the username field's autofill
  // (autocomplete="username webauthn").
  if (mode === "sign-in" && PublicKeyCredential.isConditionalMediationAvailable) {
    PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
      if (available) {
        ask("conditional").catch(failed);
      }
    });
  }
})();
