"""Installing Plaza to a phone's home screen: the web app manifest, the service worker and
the offline page it shows. Nothing a person reads is cached: only the offline page, the
stylesheet and the icon, so someone who loses access keeps nothing on their phone."""
