"""Tests for crawler.pages.extract: every kind of image reference, URL hygiene, the cap, bad input."""

from __future__ import annotations

from crawler.pages.extract import Extracted, extract_image_urls

PAGE = "https://example.com/gallery/page.html"


def urls(html: str | bytes, max_images: int = 1000, page_url: str = PAGE) -> list[str]:
    return extract_image_urls(html, page_url, max_images).image_urls


def test_img_src() -> None:
    assert urls('<img src="a.jpg"><img src="/b.png">') == [
        "https://example.com/gallery/a.jpg",
        "https://example.com/b.png",
    ]


def test_img_srcset_x_descriptors() -> None:
    assert urls('<img srcset="a.jpg 1x, b.jpg 2x">') == [
        "https://example.com/gallery/a.jpg",
        "https://example.com/gallery/b.jpg",
    ]


def test_img_srcset_w_descriptors_without_space_after_comma() -> None:
    assert urls('<img srcset="a.jpg 480w,b.jpg 800w">') == [
        "https://example.com/gallery/a.jpg",
        "https://example.com/gallery/b.jpg",
    ]


def test_srcset_url_containing_commas() -> None:
    html = '<img srcset="https://x.com/img,w_300/a.jpg 300w, https://x.com/img,w_600/a.jpg 600w">'
    assert urls(html) == ["https://x.com/img,w_300/a.jpg", "https://x.com/img,w_600/a.jpg"]


def test_srcset_trailing_comma_ends_url_and_odd_separators() -> None:
    html = '<img srcset=" ,a.jpg,  b.jpg 2x ,, c.jpg (x, y) 3x, d.jpg,">'
    assert urls(html) == [
        "https://example.com/gallery/a.jpg",
        "https://example.com/gallery/b.jpg",
        "https://example.com/gallery/c.jpg",
        "https://example.com/gallery/d.jpg",
    ]


def test_img_src_and_srcset_together() -> None:
    assert urls('<img src="s.jpg" srcset="m.jpg 2x">') == [
        "https://example.com/gallery/s.jpg",
        "https://example.com/gallery/m.jpg",
    ]


def test_picture_source_srcset_and_source_src() -> None:
    html = (
        '<picture><source srcset="a.avif 1x, a2.avif 2x" type="image/avif">'
        '<source src="b.webp"><img src="c.jpg"></picture>'
    )
    assert urls(html) == [
        "https://example.com/gallery/a.avif",
        "https://example.com/gallery/a2.avif",
        "https://example.com/gallery/b.webp",
        "https://example.com/gallery/c.jpg",
    ]


def test_lazy_load_attributes_on_img_and_source() -> None:
    html = (
        '<img src="placeholder.gif" data-src="l1.jpg" data-srcset="l2.jpg 1x, l3.jpg 2x"'
        ' data-original="l4.jpg" data-lazy-src="l5.jpg" data-lazy-srcset="l6.jpg 100w">'
        '<picture><source data-srcset="s1.webp 1x" data-lazy-srcset="s2.webp 2x"></picture>'
    )
    assert urls(html) == [
        "https://example.com/gallery/placeholder.gif",
        "https://example.com/gallery/l1.jpg",
        "https://example.com/gallery/l2.jpg",
        "https://example.com/gallery/l3.jpg",
        "https://example.com/gallery/l4.jpg",
        "https://example.com/gallery/l5.jpg",
        "https://example.com/gallery/l6.jpg",
        "https://example.com/gallery/s1.webp",
        "https://example.com/gallery/s2.webp",
    ]


def test_lazy_attributes_ignored_on_other_elements() -> None:
    assert urls('<div data-src="d.jpg"></div><iframe data-src="f.jpg"></iframe>') == []


def test_open_graph_meta() -> None:
    html = (
        '<meta property="og:image" content="/og.jpg">'
        '<meta property="og:image:url" content="/og-url.jpg">'
        '<meta property="OG:Image:Secure_URL" content="https://cdn.example.com/og-secure.jpg">'
        '<meta property="og:title" content="/not-an-image.jpg">'
    )
    assert urls(html) == [
        "https://example.com/og.jpg",
        "https://example.com/og-url.jpg",
        "https://cdn.example.com/og-secure.jpg",
    ]


def test_twitter_meta_by_name_or_property() -> None:
    html = (
        '<meta name="twitter:image" content="/t1.jpg">'
        '<meta property="twitter:image" content="/t2.jpg">'
        '<meta name="twitter:image:src" content="/t3.jpg">'
        '<meta name="twitter:card" content="/t4.jpg">'
    )
    assert urls(html) == [
        "https://example.com/t1.jpg",
        "https://example.com/t2.jpg",
        "https://example.com/t3.jpg",
    ]


def test_link_rel_image_src() -> None:
    html = (
        '<link rel="image_src" href="/thumb.jpg">'
        '<link rel="stylesheet" href="/style.css">'
        '<link rel="icon IMAGE_SRC" href="/both.png">'
    )
    assert urls(html) == ["https://example.com/thumb.jpg", "https://example.com/both.png"]


def test_a_href_to_image_files_only() -> None:
    html = (
        '<a href="full.JPG">1</a><a href="/x.jpeg?size=large#top">2</a>'
        '<a href="next.html">3</a><a href="/photo.php?file=a.jpg">4</a>'
        '<a href="/dir.jpg/">5</a><a href="p.png">6</a><a href="p.heic">7</a>'
        '<a href="p.avif">8</a><a href="p.jxl">9</a><a href="favicon.ico">10</a>'
        '<a href="p.TIFF">11</a><a href="p.webp">12</a><a href="p.bmp">13</a>'
        '<a href="p.gif">14</a><a href="p.heif">15</a><a href="p.tif">16</a><a>17</a>'
    )
    assert urls(html) == [
        "https://example.com/gallery/full.JPG",
        "https://example.com/x.jpeg?size=large",
        "https://example.com/gallery/p.png",
        "https://example.com/gallery/p.heic",
        "https://example.com/gallery/p.avif",
        "https://example.com/gallery/p.jxl",
        "https://example.com/gallery/favicon.ico",
        "https://example.com/gallery/p.TIFF",
        "https://example.com/gallery/p.webp",
        "https://example.com/gallery/p.bmp",
        "https://example.com/gallery/p.gif",
        "https://example.com/gallery/p.heif",
        "https://example.com/gallery/p.tif",
    ]


def test_base_href_first_with_href_resolved_against_page() -> None:
    html = (
        '<img src="before.jpg"><base target="_blank"><base href="../static/">'
        '<base href="https://other.example/ignored/"><img src="a.jpg">'
    )
    assert urls(html) == [
        "https://example.com/static/before.jpg",
        "https://example.com/static/a.jpg",
    ]


def test_unusable_base_href_falls_back_to_page_url() -> None:
    assert urls('<base href="http://[invalid"><img src="a.jpg">') == [
        "https://example.com/gallery/a.jpg"
    ]


def test_relative_resolution() -> None:
    html = (
        '<img src="../up.jpg"><img src="//cdn.example.net/p.jpg">'
        '<img src="?v=2"><img src="HTTP://Example.com/abs.jpg">'
        '<img src="http://plain.example/x.png">'
    )
    assert urls(html) == [
        "https://example.com/up.jpg",
        "https://cdn.example.net/p.jpg",
        "https://example.com/gallery/page.html?v=2",
        "HTTP://Example.com/abs.jpg",
        "http://plain.example/x.png",
    ]


def test_fragments_dropped() -> None:
    assert urls('<img src="a.jpg#x"><img src="b.jpg?q=1#frag">') == [
        "https://example.com/gallery/a.jpg",
        "https://example.com/gallery/b.jpg?q=1",
    ]


def test_whitespace_stripped_and_entities_decoded() -> None:
    assert urls('<img src="  \n a.jpg?x=1&amp;y=2\t ">') == [
        "https://example.com/gallery/a.jpg?x=1&y=2"
    ]


def test_first_of_duplicate_attributes_wins() -> None:
    html = '<img src="first.jpg" src="second.jpg">'
    assert urls(html) == ["https://example.com/gallery/first.jpg"]


def test_non_http_schemes_and_empty_values_skipped() -> None:
    html = (
        '<img src="data:image/png;base64,iVBORw0KGgo="><img src="javascript:alert(1)">'
        '<img src="mailto:a@b.c"><img src="blob:https://example.com/1234">'
        '<img src="ftp://example.com/a.jpg"><img src="file:///etc/a.jpg">'
        '<img src=""><img src="   "><img src><img srcset=" , ">'
        '<img srcset="data:image/gif;base64,R0lGOD,lh 1x, ok.jpg 2x">'
        '<a href="mailto:me@example.com?subject=a.jpg">m</a>'
    )
    assert urls(html) == ["https://example.com/gallery/ok.jpg"]


def test_malformed_urls_skipped() -> None:
    html = '<img src="http://[invalid"><img src="ok.jpg"><a href="http://[::1/x.jpg">x</a>'
    assert urls(html) == [
        "https://example.com/gallery/ok.jpg"
    ]


def test_duplicates_removed_in_document_order() -> None:
    html = (
        '<meta property="og:image" content="/gallery/b.jpg">'
        '<img src="a.jpg"><img src="b.jpg#one" srcset="a.jpg 2x, b.jpg 3x">'
        '<a href="https://example.com/gallery/a.jpg">a</a><img src="c.jpg">'
    )
    result = extract_image_urls(html, PAGE, 10)
    assert result == Extracted(
        image_urls=[
            "https://example.com/gallery/b.jpg",
            "https://example.com/gallery/a.jpg",
            "https://example.com/gallery/c.jpg",
        ],
        found=3,
        capped=0,
    )


def test_cap_and_counts() -> None:
    html = "".join(f'<img src="{i}.jpg">' for i in range(5)) + '<img src="0.jpg">'
    assert extract_image_urls(html, PAGE, 2) == Extracted(
        image_urls=["https://example.com/gallery/0.jpg", "https://example.com/gallery/1.jpg"],
        found=5,
        capped=3,
    )


def test_cap_zero_and_negative() -> None:
    html = '<img src="a.jpg"><img src="b.jpg">'
    assert extract_image_urls(html, PAGE, 0) == Extracted(image_urls=[], found=2, capped=2)
    assert extract_image_urls(html, PAGE, -1) == Extracted(image_urls=[], found=2, capped=2)


def test_malformed_html_does_not_raise() -> None:
    html = (
        '<html><body><div><p><img src="a.jpg" alt=x><b></i></div></span></td>'
        '<img  src = b.jpg / ><table><tr><td><img src=c.jpg>'
        '<a href="d.png"<img src="ignored-attribute.jpg">'
        '<img src="unterminated-at-eof.jpg'
    )
    assert urls(html) == [
        "https://example.com/gallery/a.jpg",
        "https://example.com/gallery/b.jpg",
        "https://example.com/gallery/c.jpg",
        "https://example.com/gallery/d.png",
    ]


def test_bogus_marked_section_does_not_stop_parsing() -> None:
    # html.parser raises AssertionError on "<![foo["; browsers read a bogus comment.
    html = (
        '<img src="a.jpg"><![foo[ bogus ]]><img src="b.jpg">'
        '<!DOCTYPE html [ x ]><img src="c.jpg">'
    )
    assert urls(html) == [
        "https://example.com/gallery/a.jpg",
        "https://example.com/gallery/b.jpg",
        "https://example.com/gallery/c.jpg",
    ]


def test_unclosed_attribute_quote_swallows_markup_like_browsers() -> None:
    assert urls('<img src="a.jpg" alt="oops><img src="b.jpg"><img src="c.jpg">') == [
        "https://example.com/gallery/a.jpg",
        "https://example.com/gallery/c.jpg",
    ]


def test_script_content_is_not_markup() -> None:
    assert urls('<script>var s = \'<img src="x.jpg">\';</script><img src="y.jpg">') == [
        "https://example.com/gallery/y.jpg"
    ]


def test_non_utf8_bytes_decoded_by_meta_charset() -> None:
    html = '<html><head><meta charset="windows-1251"></head><img src="фото.jpg"></html>'
    assert urls(html.encode("windows-1251")) == ["https://example.com/gallery/фото.jpg"]


def test_given_encoding_wins_and_bad_bytes_are_replaced() -> None:
    html = '<meta charset="utf-8"><img src="фото.jpg">'.encode("koi8-r")
    result = extract_image_urls(html, PAGE, 10, encoding="koi8-r")
    assert result.image_urls == ["https://example.com/gallery/фото.jpg"]
    assert len(urls(b'<img src="a\xff\xfe\x81.jpg">')) == 1  # sniffed, whatever it guesses
    bad_utf8 = extract_image_urls(b'<img src="a\xffb.jpg">', PAGE, 10, encoding="utf-8")
    assert bad_utf8.image_urls == [
        "https://example.com/gallery/a\ufffdb.jpg"
    ]


def test_unknown_encoding_name_falls_back_to_sniffing() -> None:
    html = '<meta charset="windows-1251"><img src="фото.jpg">'.encode("windows-1251")
    result = extract_image_urls(html, PAGE, 10, encoding="no-such-charset")
    assert result.image_urls == ["https://example.com/gallery/фото.jpg"]


def test_page_with_100000_images() -> None:
    html = "<html><body>" + "".join(f'<div><img src="/i/{i}.jpg"></div>\n' for i in range(100_000))
    result = extract_image_urls(html.encode(), PAGE, 1000)
    assert result.found == 100_000
    assert result.capped == 99_000
    assert len(result.image_urls) == 1000
    assert result.image_urls[0] == "https://example.com/i/0.jpg"
    assert result.image_urls[-1] == "https://example.com/i/999.jpg"


def test_json_in_an_attribute_yields_its_url_like_strings() -> None:
    html = (
        """<img src="p.gif" data-src='{"default": {"src": "//img.example/a.jpg", "width": 300},"""
        """ "type": "image/jpeg", "alt": "a cat", "title": "Cat", "retina": "/r/b.png 1x, c.webp 2x","""
        """ "link": "https://example.org/d.jpg", "more": ["e.png", 7, null, true]}'>"""
        """<img data-srcset='["f.jpg", "g"]'>"""
    )
    assert urls(html) == [
        "https://example.com/gallery/p.gif",
        "https://img.example/a.jpg",
        "https://example.com/r/b.png",
        "https://example.com/gallery/c.webp",
        "https://example.org/d.jpg",
        "https://example.com/gallery/e.png",
        "https://example.com/gallery/f.jpg",
    ]


def test_value_that_only_looks_like_json_is_read_as_before() -> None:
    html = '<img src="[1].jpg"><img data-src="{{ image.url }}"><img data-src="{broken.jpg">'
    assert urls(html) == [
        "https://example.com/gallery/[1].jpg",
        "https://example.com/gallery/{broken.jpg",
    ]


def test_deeply_nested_or_huge_json_does_not_raise() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    html = f'<img data-src="{deep}"><img data-src=\'{{"n": {"9" * 5000}}}\'><img src="ok.jpg">'
    assert urls(html) == ["https://example.com/gallery/ok.jpg"]


def test_empty_query_is_kept() -> None:
    html = (
        '<img src="/a.jpg?"><img src="/a.jpg"><img src="b.jpg?#frag"><img src="c.jpg??">'
        '<img srcset="//cdn.example.net/d? 2x"><div style="background: url(e.png?)"></div>'
    )
    assert urls(html) == [
        "https://example.com/a.jpg?",
        "https://example.com/a.jpg",
        "https://example.com/gallery/b.jpg?",
        "https://example.com/gallery/c.jpg??",
        "https://cdn.example.net/d?",
        "https://example.com/gallery/e.png?",
    ]


def test_audio_and_video_sources_are_not_images() -> None:
    html = (
        '<video controls><source src="movie.webm" type="video/webm">'
        '<source src="still.png" type="Image/PNG"></video>'
        '<audio><source src="song.mp3"></audio><source src="orphan.jpg">'
        '<picture><source srcset="p.avif" type="image/avif"><source srcset="p.webp">'
        '<img src="p.jpg"></picture><source srcset="after.webp">'
    )
    assert urls(html) == [
        "https://example.com/gallery/still.png",
        "https://example.com/gallery/p.avif",
        "https://example.com/gallery/p.webp",
        "https://example.com/gallery/p.jpg",
    ]


def test_references_to_the_page_itself_are_skipped() -> None:
    html = (
        '<img src="#"><img src=""><img src=" #top "><img srcset="# 1x, real.jpg 2x">'
        '<a href="#gallery.jpg">x</a><svg style="filter: url(#blur)"><image href="#sprite"/></svg>'
        '<meta property="og:image" content="#">'
    )
    assert urls(html) == ["https://example.com/gallery/real.jpg"]


def test_inline_style_urls() -> None:
    html = (
        """<div style="background-image: url('hero.jpg')"></div>"""
        """<p style='background: URL(&quot;bg.png&quot;) no-repeat, url( //cdn.example.net/y.webp ),"""
        """ linear-gradient(red, blue)'>text</p>"""
        """<span style="list-style-image:url(data:image/png;base64,iVBORw0KGgo=);color:red"></span>"""
        """<img src="after.jpg" style="border-image: url(&quot;border.png&quot;) 30">"""
    )
    assert urls(html) == [
        "https://example.com/gallery/hero.jpg",
        "https://example.com/gallery/bg.png",
        "https://cdn.example.net/y.webp",
        "https://example.com/gallery/after.jpg",
        "https://example.com/gallery/border.png",
    ]


def test_style_element_urls_resolved_against_the_base() -> None:
    html = (
        "<head><style>\n"
        "/* .old { background: url(commented-out.jpg) } */\n"
        '@import url("theme.css"); @import "print.css" print;\n'
        '@font-face { font-family: F; src: url(f.woff2) format("woff2"), url(\'f.ttf\'); }\n'
        ".hero { background: #000 url( 'hero.jpg' ) center / cover; }\n"
        '.logo { content: "not-a-url.png"; background-image: -webkit-image-set("l1.png" 1x,'
        ' url(l2.png) 2x); background-image: image-set("l3.avif" type("image/avif") 1x); }\n'
        ".mask { mask: url(#shape); }\n"
        "</style><base href=\"/static/\"></head><body><img src=\"i.jpg\"><style>.x{background:url(x.gif)}"
    )
    assert urls(html) == [
        "https://example.com/static/hero.jpg",
        "https://example.com/static/l1.png",
        "https://example.com/static/l2.png",
        "https://example.com/static/l3.avif",
        "https://example.com/static/i.jpg",
        "https://example.com/static/x.gif",
    ]


def test_style_element_cut_off_by_a_truncated_page() -> None:
    assert urls('<style>.a{background:url(a.jpg)} .b{background:url(b.jpg)} .c{col') == [
        "https://example.com/gallery/a.jpg",
        "https://example.com/gallery/b.jpg",
    ]


def test_hostile_css_does_not_raise() -> None:
    css = 'url("' * 20_000 + "/*" * 20_000 + "image-set(" * 20_000
    html = f'<style>{css}</style><div style="{"url(" * 20_000}"></div><img src="ok.jpg">'
    assert urls(html)[-1] == "https://example.com/gallery/ok.jpg"


def test_svg_image_and_input_type_image() -> None:
    html = (
        '<svg><image href="s.svg" width="10"/><image xlink:href="x.png"></image></svg>'
        '<input type="image" src="button.png" alt="Go"><input type="IMAGE " src="b2.gif">'
        '<input type="text" src="not-an-image.png"><input src="no-type.png">'
    )
    assert urls(html) == [
        "https://example.com/gallery/s.svg",
        "https://example.com/gallery/x.png",
        "https://example.com/gallery/button.png",
        "https://example.com/gallery/b2.gif",
    ]


def test_video_poster() -> None:
    html = (
        '<video poster="poster.jpg" src="clip.mp4"></video>'
        '<video class="lozad" data-poster="lazy-poster.jpg"></video>'
    )
    assert urls(html) == [
        "https://example.com/gallery/poster.jpg",
        "https://example.com/gallery/lazy-poster.jpg",
    ]


def test_link_preload_as_image() -> None:
    html = (
        '<link rel="preload" as="image" href="hero.jpg" imagesrcset="hero-1.jpg 1x, hero-2.jpg 2x">'
        '<link rel="preload" as="image" imagesrcset="only.webp 400w">'
        '<link rel="preload" as="font" href="font.woff2"><link rel="preload" href="app.js" as="script">'
        '<link rel="stylesheet" href="style.css">'
    )
    assert urls(html) == [
        "https://example.com/gallery/hero.jpg",
        "https://example.com/gallery/hero-1.jpg",
        "https://example.com/gallery/hero-2.jpg",
        "https://example.com/gallery/only.webp",
    ]


def test_more_lazy_loading_attributes() -> None:
    html = (
        '<img data-lazy="slick.jpg" data-echo="echo.jpg" data-src-retina="retina.jpg"'
        ' data-hi-res-src="hi.jpg" data-fallback-src="fallback.jpg"'
        ' data-source-standard="standard.jpg" data-flickity-lazyload="flick.jpg"'
        ' data-flickity-lazyload-srcset="fs1.jpg 1x, fs2.jpg 2x" data-pagespeed-lazy-src="ps.jpg"'
        ' data-caption="A caption">'
    )
    assert urls(html) == [
        "https://example.com/gallery/slick.jpg",
        "https://example.com/gallery/echo.jpg",
        "https://example.com/gallery/retina.jpg",
        "https://example.com/gallery/flick.jpg",
        "https://example.com/gallery/fs1.jpg",
        "https://example.com/gallery/fs2.jpg",
        "https://example.com/gallery/ps.jpg",
        "https://example.com/gallery/hi.jpg",
        "https://example.com/gallery/fallback.jpg",
        "https://example.com/gallery/standard.jpg",
    ]


def test_lazy_background_attributes_on_any_element() -> None:
    html = (
        '<div class="lazyload" data-bgset="b-200.jpg 200w, b-400.jpg 400w [(max-width: 600px)]'
        ' | b-wide.jpg"></div>'
        '<section data-bg="/img/bg.jpg" data-bg-hidpi="url(bg@2x.jpg)"></section>'
        '<div class="lozad" data-background-image="l1.png,l2.png"></div>'
        """<div data-background-image-set="url('s1.jpg') 1x, url('s2.jpg') 2x"></div>"""
        '<div data-bg-multi="url(m1.jpg), linear-gradient(#fff, #ccc)"></div>'
        '<div data-echo-background="echo-bg.jpg"></div>'
    )
    assert urls(html) == [
        "https://example.com/gallery/b-200.jpg",
        "https://example.com/gallery/b-400.jpg",
        "https://example.com/gallery/b-wide.jpg",
        "https://example.com/img/bg.jpg",
        "https://example.com/gallery/bg@2x.jpg",
        "https://example.com/gallery/l1.png",
        "https://example.com/gallery/l2.png",
        "https://example.com/gallery/s1.jpg",
        "https://example.com/gallery/s2.jpg",
        "https://example.com/gallery/m1.jpg",
        "https://example.com/gallery/echo-bg.jpg",
    ]


def test_lazy_attribute_flags_and_words_are_not_urls() -> None:
    html = (
        '<img src="real.jpg" data-lazy="true" data-src="{{ image }}" data-original="1">'
        '<div data-bg="dark" data-bgset="none"></div><div data-bg="#ffffff"></div>'
    )
    assert urls(html) == ["https://example.com/gallery/real.jpg"]


def test_legacy_background_attribute() -> None:
    html = (
        '<body background="page-bg.gif"><table background="table.png"><tr>'
        '<td background="cell.jpg">x</td></tr></table><div background="no.jpg"></div>'
    )
    assert urls(html) == [
        "https://example.com/gallery/page-bg.gif",
        "https://example.com/gallery/table.png",
        "https://example.com/gallery/cell.jpg",
    ]
