/* global SwaggerUIBundle */
// Starts Swagger UI on the spec the server publishes. Kept out of index.html so the page works
// under a Content-Security-Policy that forbids inline scripts.
window.addEventListener('DOMContentLoaded', () => {
  window.ui = SwaggerUIBundle({
    url: '/api/v1/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    tryItOutEnabled: false,
    // The default validator badge is an image from a public host; the app runs offline.
    validatorUrl: null,
  });
});
