"""The languages of the pages and mails: gettext catalogues, and which one a reader gets."""
