"""Every page of the clinic app, one module each, registered by app/main.py with st.navigation.

Each module exposes render(). st.navigation runs the module's file as the page script (file-based pages, so
AppTest.switch_page("screens/NAME.py") reaches them); the guard at the end of each file then draws the page with the
imported module, so module state (caches, flags) lasts across reruns exactly as for an ordinary import."""
