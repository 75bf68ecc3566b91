// Starts GOV.UK Frontend's components (error summary focus, service navigation on phones,
// notification banners). A module, so browsers too old for it skip it and keep the plain
// pages, which work without script.
import { initAll } from "./govuk/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();
